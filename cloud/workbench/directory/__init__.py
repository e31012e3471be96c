"""The directory: companies and listings searched across parks, within the confidentiality tiers."""
