"""The retention and deletion schedule page."""
