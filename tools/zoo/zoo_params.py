"""PyTorch 1.13 mirrors of vigil's blocks and model zoo (include/vigil/nn/blocks.hpp, zoo.hpp), written to
tests/golden/zoo_params.json: for each configuration, every parameter's and buffer's dotted path and shape, in
PyTorch's order, and the total parameter count. The tests build the same configuration in vigil and compare the
lists one to one, so a missing bias, a wrong width or a misnamed child shows up by name.

The mirrors use the same child names as vigil (torchvision's for ResNet); torchvision itself is not installed here.
Run with Debian's interpreter, which has torch:
    /usr/bin/python3 tools/zoo/zoo_params.py
"""
import json
import math
import os

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "golden", "zoo_params.json")


class ConvBNReLU(nn.Module):
    def __init__(self, cin, cout, k, stride=1, padding=0, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=padding, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class VGGBlock(nn.Module):
    def __init__(self, cin, cout, convs, pool=True):
        super().__init__()
        for i in range(convs):
            setattr(self, f"conv{i + 1}", ConvBNReLU(cin if i == 0 else cout, cout, 3, padding=1))
        if pool:
            self.pool = nn.MaxPool2d(2)


def projection(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))


class BasicResidualBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = projection(cin, cout, stride)


class BottleneckBlock(nn.Module):
    def __init__(self, cin, mid, cout, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.shortcut = projection(cin, cout, stride)


class InceptionModule(nn.Module):
    def __init__(self, cin, b1, b3r, b3, b5r, b5, pp):
        super().__init__()
        self.branch1x1 = nn.Sequential(ConvBNReLU(cin, b1, 1))
        self.branch3x3 = nn.Sequential(ConvBNReLU(cin, b3r, 1), ConvBNReLU(b3r, b3, 3, padding=1))
        self.branch5x5 = nn.Sequential(ConvBNReLU(cin, b5r, 1), ConvBNReLU(b5r, b5, 5, padding=2))
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, 1, 1), ConvBNReLU(cin, pp, 1))


class DepthwiseSeparable(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.depthwise = ConvBNReLU(cin, cin, 3, stride=stride, padding=1, groups=cin)
        self.pointwise = ConvBNReLU(cin, cout, 1)


class LeNet5(nn.Module):
    def __init__(self, cin, classes, image_size=32):
        super().__init__()
        p = (32 - image_size) // 2
        self.features = nn.Sequential(nn.Conv2d(cin, 6, 5, padding=p), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
        self.classifier = nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                        nn.Linear(84, classes))


class SmallVGG(nn.Module):
    def __init__(self, cin, classes, width=32):
        super().__init__()
        w = width
        self.features = nn.Sequential(VGGBlock(cin, w, 2), VGGBlock(w, 2 * w, 2), VGGBlock(2 * w, 4 * w, 2))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(4 * w, 8 * w), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8 * w, classes))


class ResNet18(nn.Module):
    def __init__(self, cin, classes, width=64, small_input_stem=True):
        super().__init__()
        w = width
        if small_input_stem:
            self.conv1 = nn.Conv2d(cin, w, 3, padding=1, bias=False)
        else:
            self.conv1 = nn.Conv2d(cin, w, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(w)
        if not small_input_stem:
            self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = w
        for stage in range(4):
            cout = w << stage
            stride = 1 if stage == 0 else 2
            setattr(self, f"layer{stage + 1}", nn.Sequential(BasicResidualBlock(cin, cout, stride),
                                                             BasicResidualBlock(cout, cout, 1)))
            cin = cout
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)


class MobileNet(nn.Module):
    STAGES = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
              (512, 1), (1024, 2), (1024, 1)]

    def __init__(self, cin, classes, width_multiplier=1.0, small_input_stem=True):
        super().__init__()

        def scaled(c):
            return max(8, math.floor(width_multiplier * c))

        c = scaled(32)
        self.stem = ConvBNReLU(cin, c, 3, stride=1 if small_input_stem else 2, padding=1)
        blocks = []
        for out, stride in self.STAGES:
            blocks.append(DepthwiseSeparable(c, scaled(out), stride))
            c = scaled(out)
        self.features = nn.Sequential(*blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, classes)


def double_conv(cin, cout):
    return nn.Sequential(ConvBNReLU(cin, cout, 3, padding=1), ConvBNReLU(cout, cout, 3, padding=1))


class UNet(nn.Module):
    def __init__(self, cin, classes, width=16, depth=2):
        super().__init__()

        def w(level):
            return width << level

        self.down0 = double_conv(cin, w(0))
        self.pool = nn.MaxPool2d(2)
        for level in range(1, depth + 1):
            setattr(self, f"down{level}", double_conv(w(level - 1), w(level)))
        for level in reversed(range(depth)):
            setattr(self, f"up{level}", nn.ConvTranspose2d(w(level + 1), w(level), 2, stride=2))
            setattr(self, f"up_conv{level}", double_conv(2 * w(level), w(level)))
        self.head = nn.Conv2d(w(0), classes, 1)


def describe(module):
    return {
        "parameters": [[name, list(p.shape)] for name, p in module.named_parameters()],
        "buffers": [[name, list(b.shape)] for name, b in module.named_buffers()],
        "total": sum(p.numel() for p in module.parameters()),
    }


CONFIGS = {
    "conv_bn_relu_3_8_k3": ConvBNReLU(3, 8, 3, padding=1),
    "vgg_block_3_8_2convs": VGGBlock(3, 8, 2),
    "basic_8_8_s1": BasicResidualBlock(8, 8, 1),
    "basic_8_16_s2": BasicResidualBlock(8, 16, 2),
    "bottleneck_16_4_16_s1": BottleneckBlock(16, 4, 16, 1),
    "bottleneck_8_4_16_s2": BottleneckBlock(8, 4, 16, 2),
    "inception_8_4_4_8_2_4_4": InceptionModule(8, 4, 4, 8, 2, 4, 4),
    "depthwise_separable_8_16_s2": DepthwiseSeparable(8, 16, 2),
    "lenet5_1ch_10_28": LeNet5(1, 10, 28),
    "lenet5_3ch_10_32": LeNet5(3, 10, 32),
    "small_vgg_1ch_10_w32": SmallVGG(1, 10, 32),
    "small_vgg_3ch_10_w32": SmallVGG(3, 10, 32),
    "resnet18_1ch_10_w64_small": ResNet18(1, 10, 64, True),
    "resnet18_3ch_10_w64_small": ResNet18(3, 10, 64, True),
    "resnet18_3ch_1000_w64_imagenet": ResNet18(3, 1000, 64, False),
    "mobilenet_1ch_10_x0.25_small": MobileNet(1, 10, 0.25, True),
    "mobilenet_3ch_1000_x1_imagenet": MobileNet(3, 1000, 1.0, False),
    "unet_1ch_2_w16_d2": UNet(1, 2, 16, 2),
    "unet_3ch_5_w8_d3": UNet(3, 5, 8, 3),
}


def main():
    out = {name: describe(module) for name, module in CONFIGS.items()}
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    for name, entry in out.items():
        print(f"{name:36s} {entry['total']:>12,d}")


if __name__ == "__main__":
    main()
