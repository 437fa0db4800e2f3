# Each cell of the comparison alone: `fit`, then `evaluate` (as `compare` ran them).

pyro-ccvae fit --model ccvae --sup 0.004 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup0.004-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup0.004-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 0.004 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup0.004-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup0.004-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 0.004 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup0.004-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup0.004-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 0.004 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup0.004-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup0.004-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.004 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup0.004-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup0.004-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 0.004 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup0.004-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup0.004-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 0.004 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup0.004-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup0.004-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 0.004 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup0.004-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup0.004-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.06 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup0.06-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup0.06-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 0.06 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup0.06-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup0.06-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 0.06 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup0.06-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup0.06-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 0.06 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup0.06-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup0.06-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.06 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup0.06-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup0.06-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 0.06 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup0.06-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup0.06-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 0.06 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup0.06-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup0.06-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 0.06 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup0.06-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup0.06-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.2 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup0.2-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup0.2-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 0.2 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup0.2-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup0.2-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 0.2 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup0.2-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup0.2-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 0.2 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup0.2-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup0.2-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.2 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup0.2-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup0.2-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 0.2 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup0.2-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup0.2-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 0.2 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup0.2-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup0.2-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 0.2 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup0.2-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup0.2-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model ccvae --sup 1 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup1-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup1-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup1-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 1 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup1-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup1-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup1-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 1 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup1-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup1-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup1-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 1 --seed 0 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup1-seed0
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup1-seed0 --seed 0 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup1-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 1 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/ccvae-sup1-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/ccvae-sup1-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/ccvae-sup1-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 1 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/m2-sup1-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/m2-sup1-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/m2-sup1-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 1 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/diva-sup1-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/diva-sup1-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/diva-sup1-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 1 --seed 1 --dataset /work/data-cache/synthfaces-v2-n20000-s0-32px.h5 --epochs 2 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out /work/wt/issue14/runs/grid/mvae-sup1-seed1
pyro-ccvae evaluate --run /work/wt/issue14/runs/grid/mvae-sup1-seed1 --seed 1 --samples 500 --oracle /tmp/i14/oracle32 --json > /work/wt/issue14/runs/grid/mvae-sup1-seed1/evaluation.json
