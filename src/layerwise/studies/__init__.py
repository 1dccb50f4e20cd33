"""The studies: each one a folder of its runs, figures and report section."""
