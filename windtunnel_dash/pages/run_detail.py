"""Starting point; replaced by the page's developer."""
import reflex as rx


def run_detail_page() -> rx.Component:
    return rx.heading("run_detail")
