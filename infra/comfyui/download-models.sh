#!/usr/bin/env bash
# Fetches the Wan2.1 first/last-frame model files (Apache-2.0) that wan21-flf2v.workflow.json names,
# into a ComfyUI models/ folder (default ./models). About 40 GB; run it once per GPU node or volume.
set -euo pipefail
DEST="${1:-./models}"
BASE="https://huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files"
fetch() { # <subfolder> <file>
  mkdir -p "$DEST/$1"
  if [ -s "$DEST/$1/$2" ]; then echo "have $1/$2"; return; fi
  echo "fetching $1/$2"
  curl -fL --retry 5 -C - -o "$DEST/$1/$2.part" "$BASE/$1/$2" && mv "$DEST/$1/$2.part" "$DEST/$1/$2"
}
fetch diffusion_models wan2.1_flf2v_720p_14B_fp16.safetensors
fetch text_encoders umt5_xxl_fp8_e4m3fn_scaled.safetensors
fetch vae wan_2.1_vae.safetensors
fetch clip_vision clip_vision_h.safetensors
echo "models ready in $DEST"
