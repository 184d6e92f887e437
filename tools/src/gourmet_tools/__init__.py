"""Gourmet's tooling, apart from the product: load tests, incident replays and drills
(``loadtest``), capacity simulations (``capacity``), the commands that run them (``cli``), and
the two policies every tool shares: the checkout page's retries (``checkout_page``) and the
percentile (``percentiles``)."""
