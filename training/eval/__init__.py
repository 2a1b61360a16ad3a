"""Evaluation protocols of the papers, as pure metric functions with the k-NN passed in."""
