"""The agent inbox: mentions in, workflow, replies, classifications, rules, cases, SLA, forms."""
