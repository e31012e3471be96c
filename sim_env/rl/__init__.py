"""Training, evaluation and export of scheduling agents on the park twin (SB3 PPO/SAC, ONNX)."""
