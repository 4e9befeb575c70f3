#!/usr/bin/env python3
"""One whole DCGAN training step in PyTorch, written as a golden file for NativeGan's GanJob.Step (the dcgan preset).

  write FILE   builds a SMALL DCGAN (latent 10, g_width 8, d_width 8, images 1x32x32, batch 4: every layer kind
               of the full model, ConvTranspose2d / BatchNorm2d / ReLU / Tanh in the generator, Conv2d /
               BatchNorm2d / LeakyReLU(0.2) in the discriminator) with the layouts of
               benchmarks/reference/torch_reference.py (= src/Gan/Gans/Dcgan.cs), initialises it as DCGAN does
               (convolution weights N(0, 0.02), batch-norm scales N(1, 0.02), shifts and the last bias 0), draws a
               real batch uniform in [-1, 1] and the step's latents z ~ N(0, 1), and does ONE training step exactly
               as src/Gan/Gans/GanJob.cs Step (dcgan: reuse_fakes) does it, then a SECOND step with a new real batch and new
               latents (Adam's second update is no longer lr * sign(gradient): it weighs two gradients):
                 fake = G(z)                                     (one generator forward, train mode)
                 loss_d = BCE(D(real), 1) + BCE(D(fake.detach()), 0)   (real and fake as two D batches)
                 loss_d.backward(); Adam_D.step()
                 loss_g = BCE(D(fake), 1)                        (the SAME fake, through the updated D)
                 loss_g.backward(); Adam_G.step()
               BCE is binary_cross_entropy_with_logits with the mean over the batch; Adam lr 2e-4, betas
               (0.5, 0.999), eps 1e-8 for both networks.
               The file holds (names exactly as NativeGan's state dicts, num_batches_tracked as float32):
                 generator.*, discriminator.*              the initial state dicts
                 real [4,1,32,32], z [4,10,1,1]            the step's inputs
                 loss_d [], loss_g []                      the losses
                 after.generator.*, after.discriminator.*  every parameter and buffer after the step
                 grad_d.discriminator.*                    D's gradients of loss_d (before Adam_D's step)
                 grad_g.generator.*                        G's gradients of loss_g (before Adam_G's step)
                 step2.real, step2.z, step2.loss_d, step2.loss_g   the second step's inputs and losses
                 after2.generator.*, after2.discriminator.*        every parameter and buffer after two steps
               tests/NativeGan.Tests/TestData/torch-dcgan-step.safetensors was made by
                 /usr/bin/python3 tools/torch_step.py write tests/NativeGan.Tests/TestData/torch-dcgan-step.safetensors
               and tests/NativeGan.Tests/Training/DcganStepTests.cs replays the step with the dcgan GanJob.

Run with Debian's interpreter: /usr/bin/python3 (python3-torch, torch 1.13). The safetensors writer is
tools/torch_interop.py's (hand-written, byte for byte what safetensors.torch.save_file writes).
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
sys.path.insert(0, __file__.rsplit("/", 2)[0] + "/benchmarks/reference")
from torch_interop import save  # noqa: E402
from torch_reference import discriminator, generator, init_dcgan  # noqa: E402

LATENT, G_WIDTH, D_WIDTH, SIDE, BATCH = 10, 8, 8, 32, 4
LR, BETAS = 2e-4, (0.5, 0.999)


def state(prefix, module):
    """The state dict under NativeGan's names: prefix + PyTorch's name; num_batches_tracked as float32."""
    return {prefix + k: (v.float() if k.endswith("num_batches_tracked") else v).detach().clone()
            for k, v in module.state_dict().items()}


def grads(module):
    return {k: p.grad.detach().clone() for k, p in module.named_parameters()}


def dcgan_step(g, d, opt_g, opt_d, real, z):
    """GanJob.Step with reuse_fakes (dcgan): one generator forward, whose fakes serve both updates; returns the losses and the gradients."""
    ones, zeros = torch.ones(len(real), 1, 1, 1), torch.zeros(len(real), 1, 1, 1)
    fake = g(z)
    loss_d = F.binary_cross_entropy_with_logits(d(real), ones) + \
        F.binary_cross_entropy_with_logits(d(fake.detach()), zeros)
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    grad_d = grads(d)
    opt_d.step()

    loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    grad_g = grads(g)
    opt_g.step()
    opt_d.zero_grad(set_to_none=True)  # loss_g reached D's weights too: not an update for D
    return loss_d.detach(), loss_g.detach(), grad_d, grad_g


def write(path):
    torch.manual_seed(11)
    g = generator(latent=LATENT, width=G_WIDTH, channels=1, side=SIDE)
    d = discriminator(width=D_WIDTH, channels=1, side=SIDE, norm="batch")
    init_dcgan(g)
    init_dcgan(d)
    g.train()
    d.train()
    out = {**state("generator.", g), **state("discriminator.", d)}

    opt_g = torch.optim.Adam(g.parameters(), LR, BETAS)
    opt_d = torch.optim.Adam(d.parameters(), LR, BETAS)
    for step, tag in enumerate(("", "step2.")):
        real = torch.rand(BATCH, 1, SIDE, SIDE) * 2 - 1
        z = torch.randn(BATCH, LATENT, 1, 1)
        out[tag + "real"], out[tag + "z"] = real, z
        loss_d, loss_g, grad_d, grad_g = dcgan_step(g, d, opt_g, opt_d, real, z)
        out[tag + "loss_d"], out[tag + "loss_g"] = loss_d, loss_g
        after = "after." if step == 0 else "after2."
        out.update(state(after + "generator.", g))
        out.update(state(after + "discriminator.", d))
        if step == 0:
            out.update({"grad_d.discriminator." + k: v for k, v in grad_d.items()})
            out.update({"grad_g.generator." + k: v for k, v in grad_g.items()})
    config = {"latent": str(LATENT), "g_width": str(G_WIDTH), "d_width": str(D_WIDTH), "image": f"1,{SIDE},{SIDE}",
              "lr": str(LR), "beta1": str(BETAS[0]), "beta2": str(BETAS[1])}
    save(path, out, {"written_by": f"torch {torch.__version__}", **config})
    print(f"wrote {path}: {len(out)} tensors; step 1: loss_d {out['loss_d'].item():.6f}, loss_g {out['loss_g'].item():.6f}; "
          f"step 2: loss_d {out['step2.loss_d'].item():.6f}, loss_g {out['step2.loss_g'].item():.6f}")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit(__doc__)
    write(sys.argv[2])
