set -x
nvidia-smi --query-gpu=name --format=csv,noheader
python3 -c "import torch; print(torch.__version__, torch.cuda.is_available())"
PYTHONPATH=src timeout 400 python3 -m pytest -q -p no:cacheprovider tests/test_attribution.py tests/test_models.py tests/test_layers.py -x 2>&1 | tail -15
