"""Benchmark 1: the course's scalar autograd loop (chapter 7), 3,000
single-sample updates of one weight. Compare: bench/nnl/scalar_autograd.nnl.
Usage: /usr/bin/python3 bench/torch/scalar_autograd.py [THREADS] [--short]"""
import sys
import time

import torch

threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1
torch.set_num_threads(threads)
EPOCHS = 10 if "--short" in sys.argv else 1000

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)


def forward(x):
    return x * w


def loss(y_pred, y_val):
    return (y_pred - y_val) ** 2


start = time.perf_counter()
for epoch in range(EPOCHS):
    for x_val, y_val in zip(x_data, y_data):
        y_pred = forward(x_val)
        l = loss(y_pred, y_val)
        l.backward()
        w.data = w.data - 0.01 * w.grad.item()
        w.grad.data.zero_()
seconds = time.perf_counter() - start
print(f"seconds: {seconds:.6f}")
print(f"check: w = {w.item():.6f}, loss = {l.item():.6e}, prediction(4) = {forward(4).item():.6f}")
