"""How data gets in: the simulated exchange world and importers for real exports."""
