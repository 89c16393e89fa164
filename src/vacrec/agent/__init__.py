"""The agent: state encoding, Q-network, offline DQN trainer, ε-greedy policy, model registry.

A DQN over the state [age, skill] that picks the industry to recommend from,
trained offline from the events and feedback logged in the store.
"""
