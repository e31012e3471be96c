"""Symbiosis discovery: resource profiles, a knowledge base of residue uses, matchmaking and ranking."""
