"""Datasets over the shared data layout (celeba/, scenes/, sounds/) and derived annotation caches."""
