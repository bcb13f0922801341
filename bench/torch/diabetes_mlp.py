"""Benchmark 2: the course's diabetes MLP 8-6-4-1 (sigmoid), full batch of the
first 759 rows of datasets/diabetes.csv.gz, BCELoss, SGD lr 0.1, 2,000 epochs.
Compare: bench/nnl/diabetes_mlp.nnl (same starting weights).
Usage: /usr/bin/python3 bench/torch/diabetes_mlp.py [THREADS] [--short]"""
import os
import sys
import time

import numpy as np
import torch
from torch import nn, optim, from_numpy

threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1
torch.set_num_threads(threads)
EPOCHS = 20 if "--short" in sys.argv else 2000
DATASETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "datasets")

xy = np.loadtxt(os.path.join(DATASETS, "diabetes.csv.gz"), delimiter=",", dtype=np.float32)[0:759]
x_data = from_numpy(xy[:, 0:-1])
y_data = from_numpy(xy[:, [-1]])


def pattern(shape, seed, bound):
    """Values in [-bound, bound) from integer arithmetic (exact on both sides)."""
    n = 1
    for s in shape:
        n = n * s
    i = torch.arange(n)
    k = ((i % 1000) * 919 + (i // 1000) * 47 + seed * 729) % 1000  # all below 2**24
    return (k / 1000 - 0.5).view(shape) * (2 * bound)


class Model(nn.Module):
    def __init__(self):
        super(Model, self).__init__()
        self.l1 = nn.Linear(8, 6)
        self.l2 = nn.Linear(6, 4)
        self.l3 = nn.Linear(4, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        x = self.sigmoid(self.l1(x))
        x = self.sigmoid(self.l2(x))
        y_pred = self.sigmoid(self.l3(x))
        return y_pred


model = Model()
seed = 1
for layer in [model.l1, model.l2, model.l3]:
    bound = 1.0 / layer.in_features ** 0.5
    layer.weight.data = pattern([layer.out_features, layer.in_features], seed, bound)
    layer.bias.data = pattern([layer.out_features], seed + 1, bound)
    seed = seed + 2

criterion = nn.BCELoss(reduction='mean')
optimizer = optim.SGD(model.parameters(), lr=0.1)

start = time.perf_counter()
for epoch in range(EPOCHS):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
seconds = time.perf_counter() - start
print(f"seconds: {seconds:.6f}")
print(f"check: rows = {x_data.shape[0]}, final loss = {loss.item():.4f}")
