"""Load as operators run it: the open-model driver, customers who retry as the checkout page
does, the shapes of a night (the November spike among them), and the reports."""
