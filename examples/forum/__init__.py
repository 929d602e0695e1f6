"""A small forum built on django-comments-xtd (threaded comments, likes), standing in for
the host platform: its own signals call `missions.track` (receivers.py), nothing else."""
