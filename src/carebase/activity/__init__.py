"""The Activity API and dashboard: team-performance reports over the inbox (S10's mentions,
events, cases and surveys), in any time zone, with a CSV export on the job runner."""
