# vagrant-libvirt (0.11.x) learns a guest's address from libvirt's DHCP leases or the
# QEMU guest agent, and waits for it before it uses ssh. With QEMU user networking there
# is no libvirt network and no lease, so it would wait forever. In usernet mode every
# guest is reached through its own hostfwd on 127.0.0.1, so that is its address.
module OrchestraUsernet
  module Address
    def get_ipaddress(domain = nil)
      '127.0.0.1'
    end
  end

  def self.enable!
    require 'vagrant-libvirt/driver'
    driver = VagrantPlugins::ProviderLibvirt::Driver
    driver.prepend(Address) unless driver.ancestors.include?(Address)
  end
end
