import Stepwise
