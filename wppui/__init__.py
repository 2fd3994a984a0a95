"""Streamlit-side helpers shared by the pages: cached resources, error display, the pairing panel.

The domain logic lives in ``wpp``; this package only renders it."""
