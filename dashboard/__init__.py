"""The Streamlit dashboard (``streamlit run dashboard/app.py``): a thin layer over ``pipeline``."""
