"""WPP Console's domain package: platform client, tokens, QR, storage and use-cases. No Streamlit here."""

__version__ = "0.1.0"
