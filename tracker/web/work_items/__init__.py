"""The work-item page: one Jira issue, the obligations it carries and what was pushed to it."""
