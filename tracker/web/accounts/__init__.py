"""Log-in and log-out, single sign-on, and the admin pages for accounts and API tokens."""
