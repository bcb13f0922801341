"""Benchmark 3: the course's CIFAR-10 LeNet on one batch of 64 3x32x32 images
made by a formula, CrossEntropyLoss, SGD lr 0.01 momentum 0.9, 30 steps.
Compare: bench/nnl/cifar_lenet.nnl (same data, same starting weights).
Usage: /usr/bin/python3 bench/torch/cifar_lenet.py [THREADS] [--short]"""
import sys
import time

import torch
from torch import nn, optim
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1
torch.set_num_threads(threads)
STEPS = 2 if "--short" in sys.argv else 30


def pattern(shape, seed, bound):
    """Values in [-bound, bound) from integer arithmetic (exact on both sides)."""
    n = 1
    for s in shape:
        n = n * s
    i = torch.arange(n)
    k = ((i % 1000) * 919 + (i // 1000) * 47 + seed * 729) % 1000  # all below 2**24
    return (k / 1000 - 0.5).view(shape) * (2 * bound)


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
seed = 1
for p in net.parameters():
    fan_in = p.numel() // p.shape[0] if p.dim() > 1 else 100
    p.data = pattern(list(p.shape), seed, 1.0 / fan_in ** 0.5)
    seed = seed + 1

x = pattern([64, 3, 32, 32], 0, 1.0)
y = torch.arange(64) % 10
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

start = time.perf_counter()
for step in range(STEPS):
    optimizer.zero_grad()
    loss = criterion(net(x), y)
    loss.backward()
    optimizer.step()
seconds = time.perf_counter() - start
print(f"seconds: {seconds:.6f}")
print(f"check: steps = {STEPS}, final loss = {loss.item():.4f}")
