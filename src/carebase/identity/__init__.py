"""Link normalisation, identity resolution, the merge ledger, guards and suppressions."""
