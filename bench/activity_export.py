"""Child process of bench/activity.py: the 12-month mention_sla_export, measured alone."""
