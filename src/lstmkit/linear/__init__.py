"""Closed-form and convex models: the least-squares AR (levels or differences, with a unit-root
test; autoregression.py), logistic and ridge classifiers on the linear paths' features
(paths.py), and MiniRocket's random-convolution features (minirocket.py)."""
