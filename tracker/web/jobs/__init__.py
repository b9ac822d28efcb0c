"""The job pages: recent jobs with the schedules, and one job's state, progress and outcome."""
