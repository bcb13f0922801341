"""One training step of the course's two CNNs in PyTorch: the reference time
for bench_cnn_step.c. Run by hand:

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/torch_cnn_step.py 1
    /usr/bin/python3 bench/torch_cnn_step.py 2

Prints milliseconds per step: the fastest and the median wall time of several
timed repetitions, and the fastest process CPU time (the better estimate on a
busy machine; with one thread it is the work done)."""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNet(nn.Module):
    """The CIFAR-10 network of the course: 3x32x32 -> 10 classes."""

    def __init__(self):
        super().__init__()
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
        return self.fc3(x)


class MnistNet(nn.Module):
    """The MNIST network of the course: 1x28x28 -> 10 classes."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.mp = nn.MaxPool2d(2)
        self.fc = nn.Linear(320, 10)

    def forward(self, x):
        n = x.size(0)
        x = F.relu(self.mp(self.conv1(x)))
        x = F.relu(self.mp(self.conv2(x)))
        x = x.view(n, -1)
        return F.log_softmax(self.fc(x), dim=1)


def time_steps(model, x, y, loss_fn, warmup=20, steps=50, repeats=7):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    per_step, cpu_per_step = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(steps):
            step()
        per_step.append((time.perf_counter() - t0) / steps)
        cpu_per_step.append((time.process_time() - c0) / steps)
    per_step.sort()
    return per_step[0] * 1e3, per_step[len(per_step) // 2] * 1e3, min(cpu_per_step) * 1e3


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    batch = 64
    lenet = LeNet()
    x = torch.randn(batch, 3, 32, 32)
    y = torch.randint(0, 10, (batch,))
    best, median, cpu = time_steps(lenet, x, y, F.cross_entropy)
    print(f"pytorch {torch.__version__} threads={threads} lenet_step_ms "
          f"min={best:.3f} median={median:.3f} cpu_min={cpu:.3f}")
    mnist = MnistNet()
    x = torch.randn(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))
    best, median, cpu = time_steps(mnist, x, y, F.nll_loss)
    print(f"pytorch {torch.__version__} threads={threads} mnist_step_ms "
          f"min={best:.3f} median={median:.3f} cpu_min={cpu:.3f}")


if __name__ == "__main__":
    main()
