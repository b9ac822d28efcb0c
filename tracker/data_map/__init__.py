"""Reading the data map (records of processing activities) from its YAML files."""
