"""Documents for people: layouts that take report data and return sheets, bytes or a stream."""
