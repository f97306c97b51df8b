#!/usr/bin/env bash
# GPU device check, for a session that is lent a machine with an NVIDIA GPU (docs/provisioner.md,
# "GPUs on the host"). Run from the repository root; needs bash, docker, curl and nvidia-smi, and
# nothing from npm or any image registry. Under a minute on a warm machine.
#
#   bash provisioner/scripts/gpu-device-check.sh           (files go to $OUT, else a new temp dir)
#
# 1. Records nvidia-smi's answer to the provisioner's exact query (provisioner/src/gpus/nvidia-smi.ts)
#    into $OUT/nvidia-smi-query.csv, byte for byte: commit it under
#    provisioner/test/fixtures/nvidia-smi/recorded/ and add it to the README table there.
# 2. Checks that Docker can hand out GPUs: the NVIDIA container toolkit's hook or CLI is installed.
# 3. Imports a tiny image (the host's `sleep` and the glibc it and nvidia-smi link against), starts
#    ONE container with the body the provisioner sends (containerSpec in
#    provisioner/src/containers/spec.ts: DeviceRequests with the GPU's UUID, Driver "nvidia",
#    Capabilities [["gpu"]]; test/gpus.test.ts keeps this copy equal to it) and runs
#    `nvidia-smi -L` inside it: the container must see exactly that one GPU.
# 4. The same `nvidia-smi -L` in ozekai/workspace:local (busybox, no glibc), reported as INFO only.
# 5. Builds the GPU workspace images of the catalog (workers/domain/plans/images.ts) from
#    images/cuda/Dockerfile and images/pytorch/Dockerfile (pulls NVIDIA's CUDA base by digest and
#    PyTorch's wheels: needs the internet) and, in ozekai/pytorch:local started with the same body,
#    runs `nvidia-smi` and `python3 -c 'import torch; print(torch.cuda.is_available())'` (must
#    print True). GPU_CHECK_IMAGES=0 skips this step (a host without internet).
# Prints PASS / FAIL / INFO lines and exits non-zero when a check failed. Everything it makes is
# labelled ozekai.gpucheck=<run id> and removed at the end.
#
#   --print-spec SESSION TENANT WORKSPACE IMAGE GPU_ID   prints the container body and exits (tests)
set -uo pipefail

# The provisioner's query: must equal NVIDIA_SMI_ARGS (test/nvidia-smi.test.ts checks it).
NVIDIA_SMI_QUERY="--query-gpu=index,uuid,name,utilization.gpu,memory.used,memory.total --format=csv"
EXPECTED_HEADER="index, uuid, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB]"
# The GPU plan the container gets (a 1-GPU plan; the numbers only size the container).
PLAN_CPUS=1
PLAN_MEMORY_MB=512
PLAN_PIDS=256

# The body of POST /containers/create, as containerSpec() builds it for a 1-GPU plan.
container_spec() {
  local session="$1" tenant="$2" workspace="$3" image="$4" gpu="$5"
  local memory=$((PLAN_MEMORY_MB * 1024 * 1024))
  cat <<JSON
{
  "name": "ozk-session-$session",
  "Image": "$image",
  "User": "1000:1000",
  "Env": ["HOME=/workspace", "NVIDIA_VISIBLE_DEVICES=$gpu"],
  "WorkingDir": "/workspace",
  "Tty": false,
  "OpenStdin": false,
  "Labels": { "ozekai.session": "$session", "ozekai.workspace": "$workspace", "ozekai.tenant": "$tenant", "ozekai.gpus": "$gpu" },
  "HostConfig": {
    "Privileged": false,
    "CapDrop": ["ALL"],
    "SecurityOpt": ["no-new-privileges:true"],
    "Memory": $memory,
    "MemorySwap": $memory,
    "NanoCpus": $((PLAN_CPUS * 1000000000)),
    "PidsLimit": $PLAN_PIDS,
    "IpcMode": "private",
    "ReadonlyRootfs": true,
    "Tmpfs": { "/tmp": "rw,exec,nosuid,nodev,size=$((PLAN_MEMORY_MB / 4))m,mode=1777" },
    "Init": true,
    "NetworkMode": "ozk-tenant-$tenant",
    "Mounts": [{ "Type": "volume", "Source": "ozk-ws-$workspace", "Target": "/workspace", "VolumeOptions": { "NoCopy": true } }],
    "LogConfig": { "Type": "none", "Config": {} },
    "RestartPolicy": { "Name": "no" },
    "DeviceRequests": [{ "Driver": "nvidia", "Count": 0, "DeviceIDs": ["$gpu"], "Capabilities": [["gpu"]], "Options": {} }]
  }
}
JSON
}

if [ "${1:-}" = "--print-spec" ]; then
  [ $# -eq 6 ] || { echo "usage: $0 --print-spec SESSION TENANT WORKSPACE IMAGE GPU_ID" >&2; exit 2; }
  container_spec "$2" "$3" "$4" "$5" "$6"
  exit 0
fi

OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
RUN="gpucheck-$(date +%s)-$$"
LABEL="ozekai.gpucheck=$RUN"
CHECK_IMAGE="ozekai/gpu-check:$RUN"
SOCKET="${DOCKER_SOCKET:-/var/run/docker.sock}"
failures=0
pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; failures=$((failures + 1)); }
info() { echo "INFO $*"; }

cleanup() {
  local ids
  ids="$(docker ps -aq --filter "label=$LABEL" 2>/dev/null)"
  # shellcheck disable=SC2086 # one id per word
  [ -n "$ids" ] && docker rm -f -v $ids >/dev/null 2>&1
  docker network rm "ozk-tenant-$RUN" >/dev/null 2>&1
  docker volume rm -f "ozk-ws-$RUN" "ozk-ws-$RUN-busybox" "ozk-ws-$RUN-pytorch" >/dev/null 2>&1
  docker image rm -f "$CHECK_IMAGE" >/dev/null 2>&1
  [ -n "${ROOTFS:-}" ] && rm -rf "$ROOTFS"
}
trap cleanup EXIT

echo "gpu-device-check: files in $OUT"

# --- 1. nvidia-smi, with the provisioner's query ------------------------------------------------
if ! command -v nvidia-smi >/dev/null; then
  fail "nvidia-smi is not on PATH"
  echo "RESULT: FAIL ($failures)"
  exit 1
fi
# shellcheck disable=SC2086 # the query is two arguments
timeout 30 nvidia-smi $NVIDIA_SMI_QUERY >"$OUT/nvidia-smi-query.csv" 2>"$OUT/nvidia-smi-query.stderr"
rc=$?
if [ "$rc" -eq 0 ]; then pass "nvidia-smi answered the provisioner's query ($OUT/nvidia-smi-query.csv)"; else fail "nvidia-smi $NVIDIA_SMI_QUERY exited $rc: $(head -c 300 "$OUT/nvidia-smi-query.stderr")"; fi
timeout 30 nvidia-smi --version >"$OUT/nvidia-smi-version.txt" 2>&1
timeout 30 nvidia-smi -L >"$OUT/nvidia-smi-L.txt" 2>&1
timeout 30 nvidia-smi -q >"$OUT/nvidia-smi-q.txt" 2>&1
info "driver: $(grep -m1 -iE 'driver|kmd' "$OUT/nvidia-smi-version.txt" | tr -s ' ')"
if [ "$(head -n1 "$OUT/nvidia-smi-query.csv")" = "$EXPECTED_HEADER" ]; then
  pass "header line is the one the parser reads: $EXPECTED_HEADER"
else
  fail "header line is '$(head -n1 "$OUT/nvidia-smi-query.csv")', the parser expects '$EXPECTED_HEADER'"
fi
gpu="$(sed -n 2p "$OUT/nvidia-smi-query.csv" | cut -d, -f2 | tr -d ' ')"
gpus="$(($(grep -c . "$OUT/nvidia-smi-query.csv") - 1))"
if [[ "$gpu" == GPU-* ]]; then pass "$gpus GPU(s); the container gets the first one, $gpu"; else fail "no GPU UUID in the answer's first row"; fi

# The parser itself, when this Node runs TypeScript (22.18+, or 22.6+ with the flag); informative.
node_ts=""
for flags in "" "--experimental-strip-types"; do
  # shellcheck disable=SC2086
  if node $flags --no-warnings -e 'import("./provisioner/src/gpus/nvidia-smi.ts")' >/dev/null 2>&1; then node_ts="node $flags --no-warnings"; break; fi
done
if [ -n "$node_ts" ]; then
  parsed="$($node_ts --input-type=module -e "import { readFileSync } from 'node:fs'; import { parseNvidiaSmiCsv } from './provisioner/src/gpus/nvidia-smi.ts'; console.log(JSON.stringify(parseNvidiaSmiCsv(readFileSync(process.argv[1], 'utf8'))))" "$OUT/nvidia-smi-query.csv" 2>&1)"
  echo "$parsed" >"$OUT/parsed.json"
  if [[ "$parsed" == *"\"memoryTotalMb\":"[0-9]* ]]; then pass "the provisioner's parser reads it: $parsed"; else fail "the provisioner's parser: $parsed"; fi
else
  info "this Node cannot run the provisioner's TypeScript; parse $OUT/nvidia-smi-query.csv with the tests instead"
fi

# --- 2. Docker and the NVIDIA container toolkit --------------------------------------------------
if ! docker info >"$OUT/docker-info.txt" 2>&1; then
  fail "the Docker engine is not reachable"
  echo "RESULT: FAIL ($failures)"
  exit 1
fi
pass "Docker $(docker version --format '{{.Server.Version}}' 2>/dev/null) is reachable"
info "Docker runtimes: $(docker info --format '{{json .Runtimes}}' 2>/dev/null | head -c 300)"
toolkit=""
for tool in nvidia-container-runtime-hook nvidia-container-cli nvidia-ctk nvidia-container-runtime; do
  command -v "$tool" >/dev/null && toolkit="$toolkit $tool"
done
# Docker's "nvidia" device driver runs the toolkit's prestart hook; without it no GPU is handed out.
if command -v nvidia-container-runtime-hook >/dev/null || command -v nvidia-container-cli >/dev/null; then
  pass "NVIDIA container toolkit:$toolkit ($(nvidia-container-cli --version 2>/dev/null | head -n1))"
else
  fail "no NVIDIA container toolkit (nvidia-container-runtime-hook / nvidia-container-cli) on PATH"
fi
command -v curl >/dev/null || { fail "curl is needed to send the provisioner's container body"; echo "RESULT: FAIL ($failures)"; exit 1; }

# --- 3. One container, the way the provisioner makes it ------------------------------------------
# A root fs of the host's sleep and of the glibc that it and nvidia-smi link against: the toolkit
# mounts nvidia-smi and the driver's libraries in, but not a C library.
ROOTFS="$(mktemp -d)"
mkdir -p "$ROOTFS"/{bin,etc,tmp,workspace,proc,sys,dev}
cp "$(command -v sleep)" "$ROOTFS/bin/sleep"
for binary in "$(command -v sleep)" "$(command -v nvidia-smi)"; do
  ldd "$binary" 2>/dev/null | grep -oE '/[^ ]+' | while read -r lib; do
    mkdir -p "$ROOTFS$(dirname "$lib")" && cp -L "$lib" "$ROOTFS$lib"
  done
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$ROOTFS/etc/passwd"
if tar -C "$ROOTFS" -cf - . | docker import --change 'CMD ["/bin/sleep", "600"]' --change "LABEL $LABEL" - "$CHECK_IMAGE" >/dev/null; then
  pass "imported $CHECK_IMAGE ($(du -sh "$ROOTFS" | cut -f1)) with no registry"
else
  fail "docker import of the check image"
fi

api() { # METHOD PATH [JSON]: the Engine API over the unix socket; prints the body, then the status
  curl -sS --unix-socket "$SOCKET" -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} -w '\n%{http_code}' "http://localhost$2"
}
start_gpu_container() { # IMAGE SUFFIX: creates and starts it; prints the container id
  local body reply status
  body="$(container_spec "$RUN$2" "$RUN" "$RUN$2" "$1" "$gpu")"
  body="${body%\}}, \"Cmd\": [\"/bin/sleep\", \"600\"] }" # the check image's command; the provisioner uses the image's
  body="$(printf '%s' "$body" | sed "s/\"Labels\": {/\"Labels\": { \"ozekai.gpucheck\": \"$RUN\",/")"
  reply="$(api POST "/containers/create?name=ozk-session-$RUN$2" "$body")"
  status="${reply##*$'\n'}"
  [ "$status" = 201 ] || { echo "create answered $status: ${reply%$'\n'*}" >&2; return 1; }
  local id
  id="$(printf '%s' "${reply%$'\n'*}" | grep -oE '"Id":"[0-9a-f]+"' | cut -d'"' -f4)"
  reply="$(api POST "/containers/$id/start")"
  status="${reply##*$'\n'}"
  [ "$status" = 204 ] || { echo "start answered $status: ${reply%$'\n'*}" >&2; return 1; }
  echo "$id"
}

docker network create --driver bridge --label "$LABEL" "ozk-tenant-$RUN" >/dev/null || fail "tenant network"
if id="$(start_gpu_container "$CHECK_IMAGE" "" 2>"$OUT/container-start.stderr")"; then
  pass "started one container with DeviceRequests [{Driver: nvidia, DeviceIDs: [$gpu], Capabilities: [[gpu]]}]"
  docker inspect "$id" >"$OUT/container-inspect.json"
  requests="$(docker inspect --format '{{json .HostConfig.DeviceRequests}}' "$id")"
  if [ "$requests" = "[{\"Driver\":\"nvidia\",\"Count\":0,\"DeviceIDs\":[\"$gpu\"],\"Capabilities\":[[\"gpu\"]],\"Options\":{}}]" ]; then
    pass "Docker holds the device request as sent: $requests"
  else
    fail "Docker holds another device request: $requests"
  fi
  timeout 60 docker exec "$id" nvidia-smi -L >"$OUT/container-nvidia-smi-L.txt" 2>&1
  rc=$?
  seen="$(grep -c '^GPU ' "$OUT/container-nvidia-smi-L.txt")"
  if [ "$rc" -eq 0 ] && [ "$seen" -eq 1 ] && grep -q "$gpu" "$OUT/container-nvidia-smi-L.txt"; then
    pass "nvidia-smi -L in the container sees exactly its GPU: $(head -n1 "$OUT/container-nvidia-smi-L.txt")"
  else
    fail "nvidia-smi -L in the container (exit $rc, $seen GPU line(s)): $(head -c 300 "$OUT/container-nvidia-smi-L.txt")"
  fi
  docker rm -f -v "$id" >/dev/null
else
  fail "the GPU container did not start: $(head -c 500 "$OUT/container-start.stderr")"
fi

# --- 4. The workspace image (busybox, no glibc): informative -------------------------------------
if bash provisioner/scripts/build-workspace-image.sh >/dev/null 2>&1; then
  if id="$(start_gpu_container "ozekai/workspace:local" "-busybox" 2>>"$OUT/container-start.stderr")"; then
    timeout 60 docker exec "$id" nvidia-smi -L >"$OUT/workspace-image-nvidia-smi-L.txt" 2>&1
    info "nvidia-smi -L in ozekai/workspace:local exited $?: $(head -c 200 "$OUT/workspace-image-nvidia-smi-L.txt" | tr '\n' ' ')"
  else
    info "ozekai/workspace:local with a GPU did not start: $(grep . "$OUT/container-start.stderr" | tail -n 1 | head -c 300)"
  fi
else
  info "ozekai/workspace:local could not be built here (needs Debian's busybox-static)"
fi

# --- 5. The GPU workspace images: cuda, then pytorch on it --------------------------------------
if [ "${GPU_CHECK_IMAGES:-1}" = 0 ]; then
  info "GPU_CHECK_IMAGES=0: the cuda and pytorch images are not built"
else
  built=1
  for name in cuda pytorch; do
    if timeout 1800 docker build -t "ozekai/$name:local" -f "images/$name/Dockerfile" "images/$name" >"$OUT/build-$name.log" 2>&1; then
      pass "built ozekai/$name:local from images/$name/Dockerfile ($(docker image inspect --format '{{.Size}}' "ozekai/$name:local" | awk '{ printf "%d MB", $1 / 1e6 }'))"
    else
      fail "docker build of images/$name/Dockerfile: $(tail -n 3 "$OUT/build-$name.log" | tr '\n' ' ' | head -c 400)"
      built=0
      break
    fi
  done
  if [ "$built" = 1 ]; then
    if id="$(start_gpu_container "ozekai/pytorch:local" "-pytorch" 2>>"$OUT/container-start.stderr")"; then
      if [ "$(docker inspect --format '{{.Config.User}}' "$id")" = "1000:1000" ]; then pass "ozekai/pytorch:local runs as 1000:1000"; else fail "ozekai/pytorch:local does not run as 1000:1000"; fi
      timeout 60 docker exec "$id" nvidia-smi >"$OUT/pytorch-nvidia-smi.txt" 2>&1
      rc=$?
      if [ "$rc" -eq 0 ] && grep -q "$gpu" <(timeout 60 docker exec "$id" nvidia-smi -L 2>&1); then pass "nvidia-smi in ozekai/pytorch:local sees its GPU"; else fail "nvidia-smi in ozekai/pytorch:local exited $rc: $(head -c 300 "$OUT/pytorch-nvidia-smi.txt")"; fi
      timeout 300 docker exec "$id" python3 -c 'import torch; print(torch.cuda.is_available())' >"$OUT/pytorch-cuda.txt" 2>&1
      rc=$?
      if [ "$rc" -eq 0 ] && [ "$(tail -n 1 "$OUT/pytorch-cuda.txt")" = True ]; then
        pass "torch.cuda.is_available() is True in ozekai/pytorch:local (torch $(docker exec "$id" python3 -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>/dev/null))"
      else
        fail "torch.cuda.is_available() in ozekai/pytorch:local (exit $rc): $(tail -c 300 "$OUT/pytorch-cuda.txt")"
      fi
      if timeout 60 docker exec "$id" jupyter-lab --version >"$OUT/pytorch-jupyter.txt" 2>&1; then
        pass "JupyterLab $(cat "$OUT/pytorch-jupyter.txt") in ozekai/pytorch:local"
      else
        fail "jupyter-lab --version in ozekai/pytorch:local: $(head -c 200 "$OUT/pytorch-jupyter.txt")"
      fi
      docker rm -f -v "$id" >/dev/null
    else
      fail "ozekai/pytorch:local with a GPU did not start: $(grep . "$OUT/container-start.stderr" | tail -n 1 | head -c 300)"
    fi
  fi
fi

if [ "$failures" -eq 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL ($failures)"; fi
[ "$failures" -eq 0 ]
