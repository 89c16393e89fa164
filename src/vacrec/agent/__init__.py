"""The agent: context encoding, Q-network, offline DQN trainer, exploration policy, weights.

A DQN whose context is the seeker's age, skill and how their words (and the skill's)
match each industry's postings picks the industry to recommend from. It is trained
offline from logged transitions handed to it; reading them from the store, the registry
and the live model's holder are the application layer's (``vacrec.app``).
"""
