# Each cell of the comparison alone: `fit`, then `evaluate` (as `compare` ran them).
# F32=$(pyro-ccvae data synthfaces --size 32); oracle: pyro-ccvae oracle fit --dataset $F32 --epochs 3 --out runs/oracle32
# All of it in one command (resumable): pyro-ccvae compare --dataset $F32 --models ccvae,m2,diva,mvae --sup 0.004,0.06,0.2,1 --seeds 0,1,2 --samples 500 --oracle runs/oracle32 --out runs/grid

pyro-ccvae fit --model ccvae --sup 0.004 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.004-seed0
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.004-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 0.004 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.004-seed0
pyro-ccvae evaluate --run runs/grid/m2-sup0.004-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 0.004 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.004-seed0
pyro-ccvae evaluate --run runs/grid/diva-sup0.004-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 0.004 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.004-seed0
pyro-ccvae evaluate --run runs/grid/mvae-sup0.004-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.004-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.004 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.004-seed1
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.004-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 0.004 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.004-seed1
pyro-ccvae evaluate --run runs/grid/m2-sup0.004-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 0.004 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.004-seed1
pyro-ccvae evaluate --run runs/grid/diva-sup0.004-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 0.004 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.004-seed1
pyro-ccvae evaluate --run runs/grid/mvae-sup0.004-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.004-seed1/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.004 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.004-seed2
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.004-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.004-seed2/evaluation.json
pyro-ccvae fit --model m2 --sup 0.004 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.004-seed2
pyro-ccvae evaluate --run runs/grid/m2-sup0.004-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.004-seed2/evaluation.json
pyro-ccvae fit --model diva --sup 0.004 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.004-seed2
pyro-ccvae evaluate --run runs/grid/diva-sup0.004-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.004-seed2/evaluation.json
pyro-ccvae fit --model mvae --sup 0.004 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.004-seed2
pyro-ccvae evaluate --run runs/grid/mvae-sup0.004-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.004-seed2/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.06 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.06-seed0
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.06-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 0.06 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.06-seed0
pyro-ccvae evaluate --run runs/grid/m2-sup0.06-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 0.06 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.06-seed0
pyro-ccvae evaluate --run runs/grid/diva-sup0.06-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 0.06 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.06-seed0
pyro-ccvae evaluate --run runs/grid/mvae-sup0.06-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.06-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.06 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.06-seed1
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.06-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 0.06 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.06-seed1
pyro-ccvae evaluate --run runs/grid/m2-sup0.06-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 0.06 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.06-seed1
pyro-ccvae evaluate --run runs/grid/diva-sup0.06-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 0.06 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.06-seed1
pyro-ccvae evaluate --run runs/grid/mvae-sup0.06-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.06-seed1/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.06 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.06-seed2
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.06-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.06-seed2/evaluation.json
pyro-ccvae fit --model m2 --sup 0.06 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.06-seed2
pyro-ccvae evaluate --run runs/grid/m2-sup0.06-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.06-seed2/evaluation.json
pyro-ccvae fit --model diva --sup 0.06 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.06-seed2
pyro-ccvae evaluate --run runs/grid/diva-sup0.06-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.06-seed2/evaluation.json
pyro-ccvae fit --model mvae --sup 0.06 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.06-seed2
pyro-ccvae evaluate --run runs/grid/mvae-sup0.06-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.06-seed2/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.2 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.2-seed0
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.2-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 0.2 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.2-seed0
pyro-ccvae evaluate --run runs/grid/m2-sup0.2-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 0.2 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.2-seed0
pyro-ccvae evaluate --run runs/grid/diva-sup0.2-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 0.2 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.2-seed0
pyro-ccvae evaluate --run runs/grid/mvae-sup0.2-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.2-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.2 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.2-seed1
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.2-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 0.2 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.2-seed1
pyro-ccvae evaluate --run runs/grid/m2-sup0.2-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 0.2 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.2-seed1
pyro-ccvae evaluate --run runs/grid/diva-sup0.2-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 0.2 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.2-seed1
pyro-ccvae evaluate --run runs/grid/mvae-sup0.2-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.2-seed1/evaluation.json
pyro-ccvae fit --model ccvae --sup 0.2 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup0.2-seed2
pyro-ccvae evaluate --run runs/grid/ccvae-sup0.2-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup0.2-seed2/evaluation.json
pyro-ccvae fit --model m2 --sup 0.2 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup0.2-seed2
pyro-ccvae evaluate --run runs/grid/m2-sup0.2-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup0.2-seed2/evaluation.json
pyro-ccvae fit --model diva --sup 0.2 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup0.2-seed2
pyro-ccvae evaluate --run runs/grid/diva-sup0.2-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup0.2-seed2/evaluation.json
pyro-ccvae fit --model mvae --sup 0.2 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup0.2-seed2
pyro-ccvae evaluate --run runs/grid/mvae-sup0.2-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup0.2-seed2/evaluation.json
pyro-ccvae fit --model ccvae --sup 1 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup1-seed0
pyro-ccvae evaluate --run runs/grid/ccvae-sup1-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup1-seed0/evaluation.json
pyro-ccvae fit --model m2 --sup 1 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup1-seed0
pyro-ccvae evaluate --run runs/grid/m2-sup1-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup1-seed0/evaluation.json
pyro-ccvae fit --model diva --sup 1 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup1-seed0
pyro-ccvae evaluate --run runs/grid/diva-sup1-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup1-seed0/evaluation.json
pyro-ccvae fit --model mvae --sup 1 --seed 0 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup1-seed0
pyro-ccvae evaluate --run runs/grid/mvae-sup1-seed0 --seed 0 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup1-seed0/evaluation.json
pyro-ccvae fit --model ccvae --sup 1 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup1-seed1
pyro-ccvae evaluate --run runs/grid/ccvae-sup1-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup1-seed1/evaluation.json
pyro-ccvae fit --model m2 --sup 1 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup1-seed1
pyro-ccvae evaluate --run runs/grid/m2-sup1-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup1-seed1/evaluation.json
pyro-ccvae fit --model diva --sup 1 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup1-seed1
pyro-ccvae evaluate --run runs/grid/diva-sup1-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup1-seed1/evaluation.json
pyro-ccvae fit --model mvae --sup 1 --seed 1 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup1-seed1
pyro-ccvae evaluate --run runs/grid/mvae-sup1-seed1 --seed 1 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup1-seed1/evaluation.json
pyro-ccvae fit --model ccvae --sup 1 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/ccvae-sup1-seed2
pyro-ccvae evaluate --run runs/grid/ccvae-sup1-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/ccvae-sup1-seed2/evaluation.json
pyro-ccvae fit --model m2 --sup 1 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/m2-sup1-seed2
pyro-ccvae evaluate --run runs/grid/m2-sup1-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/m2-sup1-seed2/evaluation.json
pyro-ccvae fit --model diva --sup 1 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/diva-sup1-seed2
pyro-ccvae evaluate --run runs/grid/diva-sup1-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/diva-sup1-seed2/evaluation.json
pyro-ccvae fit --model mvae --sup 1 --seed 2 --dataset $F32 --epochs 8 --batch-size 64 --lr 0.001 --labelled-per-batch 8 --out runs/grid/mvae-sup1-seed2
pyro-ccvae evaluate --run runs/grid/mvae-sup1-seed2 --seed 2 --samples 500 --oracle runs/oracle32 --json > runs/grid/mvae-sup1-seed2/evaluation.json

# 32 epochs at f = 0.2, seed 0 (docs/grid/32_epochs): the 8-epoch cells trained on from their checkpoints
mkdir -p runs/grid32 && cp -r runs/grid/*-sup0.2-seed0 runs/grid32/
pyro-ccvae compare --dataset $F32 --sup 0.2 --seeds 0 --epochs 32 --samples 500 --oracle runs/oracle32 --out runs/grid32
