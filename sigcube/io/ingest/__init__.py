"""Readers that turn public dataset files into labelled cubes."""
