// No imports: Node tools (the test stacks' setups, bench/) load this file as is.

/**
 * The image catalog, beside the plan catalog: what a session's container may run. Each image is
 * built on the host itself from a script or Dockerfile in images/ (no registry is assumed), under
 * its local reference; the Worker sends that reference, never a string from a request, and a host
 * runs only the references its operator lists in PROVISIONER_IMAGES.
 */
export interface WorkspaceImage {
  /** The name users pick (`ozekai connect --image NAME`). */
  name: string;
  description: string;
  /** The reference a host builds it under and PROVISIONER_IMAGES lists. */
  reference: string;
  /** How a host builds it: a script (`bash PATH`) or a Dockerfile (`docker build -f PATH`), from the repository root. */
  build: string;
  /** The plans whose sessions may run it. */
  plans: readonly string[];
  /** The plans whose sessions run it when connect names no image. */
  defaultFor: readonly string[];
  /** JupyterLab is installed (`ozekai jupyter`). */
  jupyter: boolean;
  /** An SSH server is installed (`ozekai ssh`): the host starts it with the account's keys. Without one, connect skips that step. */
  ssh: boolean;
}

const CPU_PLANS = ["cpu-small"] as const;
const GPU_PLANS = ["h100-1", "h100-8"] as const;
const ALL_PLANS = [...CPU_PLANS, ...GPU_PLANS] as const;

export const IMAGES: readonly WorkspaceImage[] = [
  {
    name: "minimal",
    description: "A static busybox shell, 2 MB: for scripts that need only a shell (and the test suites' fast image)",
    reference: "ozekai/workspace:local",
    build: "provisioner/scripts/build-workspace-image.sh",
    plans: ALL_PLANS,
    defaultFor: [],
    jupyter: false,
    ssh: false,
  },
  {
    name: "base",
    description: "Debian 12 with Python 3, pip, venv, git, curl, build tools and rsync",
    reference: "ozekai/base:local",
    build: "images/base/build.sh",
    plans: ALL_PLANS,
    defaultFor: CPU_PLANS,
    jupyter: false,
    ssh: true,
  },
  {
    name: "cuda",
    description: "The NVIDIA CUDA 12 runtime on Ubuntu 22.04, with Python 3 and pip",
    reference: "ozekai/cuda:local",
    build: "images/cuda/Dockerfile",
    plans: GPU_PLANS,
    defaultFor: [],
    jupyter: false,
    ssh: true,
  },
  {
    name: "pytorch",
    description: "PyTorch with CUDA, and JupyterLab, on the cuda image",
    reference: "ozekai/pytorch:local",
    build: "images/pytorch/Dockerfile",
    plans: GPU_PLANS,
    defaultFor: GPU_PLANS,
    jupyter: true,
    ssh: true,
  },
];

export const findImage = (name: string): WorkspaceImage | undefined => IMAGES.find((image) => image.name === name);

/** The image a plan's sessions run when connect names none. */
export const defaultImageFor = (planId: string): WorkspaceImage | undefined => IMAGES.find((image) => image.defaultFor.includes(planId));
