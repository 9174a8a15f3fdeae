@_exported import CairnFormats
