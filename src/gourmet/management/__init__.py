"""The manager's side: the menu, the 86 switch, stock, hours, slot capacity, zones and the pause."""
