"""The player surface of the missions app: the hub pages, the WebSocket and the missions player
API, composing the engine with rewards and streaks (which own their own API views). The engine
imports nothing from here; it announces through missions.signals, received in receivers.py."""
