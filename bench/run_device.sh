#!/usr/bin/env bash
# GPU benchmarks of issue 5, parts 1 and 2, sized to finish within 8 minutes on one H100/H200.
#
#   bash bench/run_device.sh            # on the GPU machine (writes JSON + log into $OUT)
#   OUT=/tmp/out bash bench/run_device.sh --tiny   # CPU test of the script at tiny sizes
#
# Steps: GPU embedding benchmark (bench/gpu_embed.py), whole pipeline at 100k rows, then at 1M
# rows with the Qwen3-shaped embedding timed (or extrapolated when time is short), each under a
# time limit so that a slow step never eats the others' results. Missing pure-Python packages
# travel as wheels in .whl/ (see bench/results/README.md).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/device_run}
mkdir -p "$OUT"
TINY=0
[ "${1:-}" = "--tiny" ] && TINY=1
BUDGET=${BUDGET_S:-455}
START=$(date +%s)
DEADLINE=$((START + BUDGET))
left() { echo $((DEADLINE - $(date +%s))); }
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=true HF_HUB_OFFLINE=1
LOG="$OUT/run.log"
exec > >(tee -a "$LOG") 2>&1

echo "== run_device.sh $(date -u +%FT%TZ) tiny=$TINY budget=${BUDGET}s"
if [ -d .whl ] && ! python3 -c "import umap, hdbscan, py3langid, stopwordsiso" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv
python3 -c "import torch, transformers, sentence_transformers as st; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'transformers', transformers.__version__, 'st', st.__version__)"

if [ $TINY = 1 ]; then
  EMBED_ARGS="--tiny"; N_MIX=600; ROWS_SMALL=3000; ROWS_BIG=6000; BIG_ARGS="--tiny-model"; TOPICS=20
else
  EMBED_ARGS=""; N_MIX=${N_MIX:-60000}; ROWS_SMALL=100000; ROWS_BIG=1000000; BIG_ARGS=""; TOPICS=50
fi

echo "== 1. GPU embedding benchmark (left $(left)s)"
timeout $(( $(left) - 200 )) python3 bench/gpu_embed.py $EMBED_ARGS --n-mix $N_MIX --out "$OUT" || echo "gpu_embed exited with $?"
GPU_JSON=$(ls "$OUT"/gpu_embed_*.json 2>/dev/null | head -1)

# The 1M run first: it is the headline; the 100k run takes what time is left.
echo "== 2a. pipeline at $ROWS_BIG rows (left $(left)s)"
timeout $(( $(left) - 5 )) python3 bench/scale.py --rows $ROWS_BIG --topics $TOPICS --out "$OUT" --qwen3-timing \
  --deadline "$DEADLINE" $BIG_ARGS ${GPU_JSON:+--gpu-json "$GPU_JSON"} || echo "scale $ROWS_BIG exited with $?"

echo "== 2b. pipeline at $ROWS_SMALL rows (left $(left)s)"
if [ "$(left)" -gt 20 ]; then
  timeout $(( $(left) - 3 )) python3 bench/scale.py --rows $ROWS_SMALL --topics $TOPICS --out "$OUT" \
    ${GPU_JSON:+--gpu-json "$GPU_JSON"} || echo "scale $ROWS_SMALL exited with $?"
fi

# Carry the 1M end-to-end figure into the embedding JSON (key end_to_end_1m_s).
python3 - "$OUT" "$ROWS_BIG" <<'PY'
import glob, json, sys
out, rows = sys.argv[1], sys.argv[2]
emb = glob.glob(f"{out}/gpu_embed_*.json")
big = glob.glob(f"{out}/*_scale_{rows}_*.json")  # gpu_scale_ on a GPU, cpu_scale_ in the --tiny test
if emb:
    data = json.load(open(emb[0]))
    if big:
        s = json.load(open(big[0]))
        data["end_to_end_1m_s"] = s.get("end_to_end_s")
        data["end_to_end_1m_detail"] = {k: s.get(k) for k in ("rows", "pipeline_wall_s", "timings_s", "embed_s", "embed_timing", "ari", "peak_rss_gib_by_stage")}
    json.dump(data, open(emb[0], "w"), indent=2)
    print("FINAL", json.dumps({k: data.get(k) for k in ("device", "tokens_per_s", "mfu", "padding_ratio", "ratio_vs_sentence_transformers", "ratio_vs_naive", "cosine_vs_fp32", "end_to_end_1m_s")}))
PY
echo "== done in $(( $(date +%s) - START ))s"
