@_exported import HTTPCore
@_exported import Reactor
