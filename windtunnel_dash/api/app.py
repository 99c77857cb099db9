"""Starting point; the API developer replaces this module."""
from fastapi import FastAPI


def build_api() -> FastAPI:
    return FastAPI()
