"""The risk register, its heat map and the DPIA pages with their sign-off."""
