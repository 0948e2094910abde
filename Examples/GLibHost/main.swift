import Stepwise
import CGLib
