"""Benchmark 4: the course's MNIST CNN on the Fashion-MNIST subset (6,000
train / 1,000 test): 2 epochs of batches of 64 in file order (shuffle=False),
then the test accuracy. Reading the files is not timed.
Compare: bench/nnl/mnist_cnn.nnl (same starting weights, same batches).
Usage: /usr/bin/python3 bench/torch/mnist_cnn.py [THREADS] [--short]"""
import gzip
import os
import sys
import time

import numpy as np
import torch
from torch import nn, optim
import torch.nn.functional as F
from torch.utils.data import TensorDataset, DataLoader

threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1
torch.set_num_threads(threads)
SHORT = "--short" in sys.argv
EPOCHS = 1 if SHORT else 2
TRAIN = 128 if SHORT else 6000
FASHION = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "datasets", "fashion-mnist")


def read_idx(name):
    """An IDX file as a NumPy array (big-endian header: magic, then one size per dimension)."""
    with gzip.open(os.path.join(FASHION, name), "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def images(name):
    a = read_idx(name)
    return torch.from_numpy(a.astype(np.float32) / 255.0).view(a.shape[0], 1, 28, 28)


def labels(name):
    return torch.from_numpy(read_idx(name).astype(np.int64))


x_train = images("train-images-idx3-ubyte.gz")[0:TRAIN]
y_train = labels("train-labels-idx1-ubyte.gz")[0:TRAIN]
x_test = images("t10k-images-idx3-ubyte.gz")
y_test = labels("t10k-labels-idx1-ubyte.gz")


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
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        in_size = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        x = x.view(in_size, -1)  # flatten the tensor
        x = self.fc(x)
        return F.log_softmax(x, dim=1)


model = Net()
seed = 1
for p in model.parameters():
    fan_in = p.numel() // p.shape[0] if p.dim() > 1 else 100
    p.data = pattern(list(p.shape), seed, 1.0 / fan_in ** 0.5)
    seed = seed + 1

train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=64, shuffle=False)
test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=1000, shuffle=False)
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.5)


def train(epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
    return loss.item()


def test():
    model.eval()
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            pred = output.argmax(dim=1)
            correct += (pred == target).sum().item()
    return correct / len(test_loader.dataset)


start = time.perf_counter()
for epoch in range(1, EPOCHS + 1):
    last_loss = train(epoch)
accuracy = test()
seconds = time.perf_counter() - start
print(f"seconds: {seconds:.6f}")
print(f"check: last batch loss = {last_loss:.4f}, test accuracy = {100 * accuracy:.1f}%")
