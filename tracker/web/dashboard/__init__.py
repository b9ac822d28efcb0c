"""The dashboard: each instrument's obligations counted per status."""
