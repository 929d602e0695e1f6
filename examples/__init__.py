"""Example host platforms that drive the mission engine (not part of the engine)."""
