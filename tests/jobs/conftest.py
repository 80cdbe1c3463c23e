"""Fixtures of the jobs tests. (`private_queues`, queues private to one test for workers the test starts and stops
itself, is in tests/conftest.py: the timeline tests use it too.)"""
