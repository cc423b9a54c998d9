"""The three rights (三权分置): holding right from collecting the data (a record's HELD_BY), and
use and operation rights as grants from the holder, scoped and time-limited."""
