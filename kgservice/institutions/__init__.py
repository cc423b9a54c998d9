"""Institutions of the alliance: the holders of data and the scope of most principals."""
